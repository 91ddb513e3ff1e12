// The stamp each benchmark message carries in its body, identical for every system under test:
//   ~<run>.<room>.<k>.<sentUs>.<measured>~ followed by padding to the body size.
// <k> counts the messages of one room in one run (0, 1, 2 ...; one sender per room), so a
// receiver detects loss, duplicates and reordering without knowing the system's own ids; <sentUs>
// is the sender's monotonic clock (lib/clock.ts); <measured> is 0 during the warm-up.
// Receivers find the marker with Buffer.indexOf and read digits in place: no JSON parsing, so
// the generator's cost per delivery is the same small amount for every system.

const TILDE = 0x7e;
const DOT = 0x2e;

export interface Marker {
  run: number;
  room: number;
  k: number;
  sentUs: number;
  measured: boolean;
}

export function markerBody(marker: Marker, size: number): string {
  const head = `~${marker.run}.${marker.room}.${marker.k}.${marker.sentUs}.${marker.measured ? 1 : 0}~`;
  return head.length >= size ? head : head + "x".repeat(size - head.length);
}

/** Reads the first marker in a frame into `out`; false when the frame carries none. */
export function readMarker(frame: Buffer, out: Marker, from = 0): boolean {
  const start = frame.indexOf(TILDE, from);
  if (start < 0) return false;
  const fields = [0, 0, 0, 0, 0];
  let field = 0;
  let digits = 0;
  for (let i = start + 1; i < frame.length; i++) {
    const c = frame[i]!;
    if (c === DOT || c === TILDE) {
      if (digits === 0) return false;
      if (c === TILDE) {
        if (field !== 4) return false;
        out.run = fields[0]!;
        out.room = fields[1]!;
        out.k = fields[2]!;
        out.sentUs = fields[3]!;
        out.measured = fields[4] === 1;
        return true;
      }
      if (++field > 4) return false;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      fields[field] = fields[field]! * 10 + (c - 0x30);
      digits++;
    } else return false;
  }
  return false;
}

/** Reads the decimal integer that follows `key` in a frame (e.g. `"seq":`); -1 when absent. */
export function readIntAfter(frame: Buffer, key: Buffer, from = 0): number {
  const at = frame.indexOf(key, from);
  if (at < 0) return -1;
  let value = 0;
  let digits = 0;
  for (let i = at + key.length; i < frame.length; i++) {
    const c = frame[i]!;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    digits++;
  }
  return digits > 0 ? value : -1;
}
