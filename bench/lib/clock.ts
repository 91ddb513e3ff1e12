// The benchmark's clock: Linux CLOCK_MONOTONIC through process.hrtime, in microseconds.
//
// Every process on one machine reads the same CLOCK_MONOTONIC, so a stamp taken by the sender
// process can be subtracted from a reading in a receiver process directly. It never jumps with
// wall-clock changes (NTP may slew its rate slightly, which is negligible over a run).
// `performance.timeOrigin + performance.now()` would anchor each process on the wall clock at
// its own start instead, adding a per-process offset.

/** Microseconds on the machine-wide monotonic clock (fits a double exactly for centuries). */
export function nowUs(): number {
  const [seconds, nanos] = process.hrtime();
  return seconds * 1_000_000 + Math.floor(nanos / 1000);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
