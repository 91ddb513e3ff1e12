// Outcome counts for the attacks' reports.

/** Counts outcomes by label, printed as "401 × 14, 404 × 3". */
export class Tally {
  private readonly counts = new Map<string, number>();
  add(label: string | number): void {
    this.counts.set(String(label), (this.counts.get(String(label)) ?? 0) + 1);
  }
  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }
  count(label: string | number): number {
    return this.counts.get(String(label)) ?? 0;
  }
  toString(): string {
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([label, n]) => `${label} × ${n}`)
      .join(", ");
  }
}
