// A private CA and a server certificate it signs (@pulumi/tls), for stacks without a real
// certificate (local development). Clients trust the CA certificate (a stack output).
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";

export interface SelfSignedCertificateArgs {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  validityHours: number;
}

export class SelfSignedCertificate extends pulumi.ComponentResource {
  /** CA certificate (PEM): what clients must trust. */
  readonly caCertificate: pulumi.Output<string>;
  /** Server certificate followed by the CA certificate (PEM chain for nginx). */
  readonly certificateChain: pulumi.Output<string>;
  /** Server private key (PEM, secret). */
  readonly privateKey: pulumi.Output<string>;

  constructor(name: string, args: SelfSignedCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("chatapi:tls:SelfSignedCertificate", name, {}, opts);
    const caKey = new tls.PrivateKey(
      `${name}-ca-key`,
      { algorithm: "ECDSA", ecdsaCurve: "P256" },
      { parent: this },
    );
    const ca = new tls.SelfSignedCert(
      `${name}-ca`,
      {
        privateKeyPem: caKey.privateKeyPem,
        subject: { commonName: `ChatAPI development CA (${args.commonName})`, organization: "ChatAPI" },
        isCaCertificate: true,
        // The CA outlives the server certificates it signs, so re-issuing them needs no new trust.
        validityPeriodHours: args.validityHours * 3,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
      },
      { parent: this },
    );
    const serverKey = new tls.PrivateKey(
      `${name}-key`,
      { algorithm: "ECDSA", ecdsaCurve: "P256" },
      { parent: this },
    );
    const request = new tls.CertRequest(
      `${name}-csr`,
      {
        privateKeyPem: serverKey.privateKeyPem,
        subject: { commonName: args.commonName, organization: "ChatAPI" },
        dnsNames: args.dnsNames,
        ipAddresses: args.ipAddresses,
      },
      { parent: this },
    );
    const server = new tls.LocallySignedCert(
      `${name}-cert`,
      {
        certRequestPem: request.certRequestPem,
        caCertPem: ca.certPem,
        caPrivateKeyPem: caKey.privateKeyPem,
        validityPeriodHours: args.validityHours,
        earlyRenewalHours: 24 * 30,
        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
      },
      { parent: this },
    );
    this.caCertificate = ca.certPem;
    this.certificateChain = pulumi.secret(pulumi.interpolate`${server.certPem}${ca.certPem}`);
    this.privateKey = pulumi.secret(serverKey.privateKeyPem);
    this.registerOutputs({ caCertificate: this.caCertificate });
  }
}
