// Latency histograms (HdrHistogram via hdr-histogram-js), in microseconds. Worker processes
// send theirs to the coordinator encoded (compressed base64) and it adds them up, so the
// percentiles are over every delivery, not an average of percentiles.
import * as hdr from "hdr-histogram-js";

const HIGHEST_US = 120_000_000; // two minutes: anything slower is clamped, and shows as max

export type Histogram = hdr.Histogram;

export function newHistogram(): Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });
}

export function record(histogram: Histogram, valueUs: number): void {
  histogram.recordValue(Math.min(Math.max(1, Math.round(valueUs)), HIGHEST_US));
}

export const encodeHistogram = (histogram: Histogram): string => hdr.encodeIntoCompressedBase64(histogram);

export function mergeHistograms(encoded: string[]): Histogram {
  const total = newHistogram();
  for (const text of encoded) total.add(hdr.decodeFromCompressedBase64(text));
  return total;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarise(histogram: Histogram): LatencySummary {
  const ms = (us: number) => Math.round(us / 10) / 100;
  return {
    count: histogram.totalCount,
    p50Ms: ms(histogram.getValueAtPercentile(50)),
    p95Ms: ms(histogram.getValueAtPercentile(95)),
    p99Ms: ms(histogram.getValueAtPercentile(99)),
    maxMs: ms(histogram.maxValue),
  };
}
