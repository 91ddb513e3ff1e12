// Secret values planted in fixtures: no rule message may ever contain one of them.
export const PLANTED_SECRETS = {
  password: "Pl4nted-Passw0rd-7c1e",
  secretKey: "planted-secret-key-4f0a9b2c8d1e6f3a",
  apiKey: "planted-api-key-e9d8c7b6a5",
  awsKey: "AKIAPLANTEDKEY123456",
  pem: "-----BEGIN PRIVATE KEY-----\nMIIEplantedPRIVATEkeyMATERIAL\n-----END PRIVATE KEY-----\n",
};

export const plantedValues = (): string[] => [
  ...Object.values(PLANTED_SECRETS),
  "MIIEplantedPRIVATEkeyMATERIAL",
];
