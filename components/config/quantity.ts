// Kubernetes-style quantities (the config's notation) to plain numbers for the plan.

const memoryUnits: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** "4Gi" → 4294967296. Throws on anything the schema would have refused. */
export function memoryBytes(quantity: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  return Math.round(Number(match[1]) * memoryUnits[match[2] ?? ""]!);
}

/** "500m" → 500, "2" → 2000. */
export function cpuMillis(quantity: string): number {
  const match = /^([0-9]+(?:\.[0-9]{1,3})?)(m)?$/.exec(quantity);
  if (!match) throw new Error(`not a CPU quantity: ${quantity}`);
  return match[2] ? Number(match[1]) : Math.round(Number(match[1]) * 1000);
}
