/** Protobuf wire types (https://protobuf.dev/programming-guides/encoding/). */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** Hex digit values by character code (-1: not a hex digit). */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[65 + i] = HEX[97 + i] = 10 + i;

/** Below this many UTF-16 units a string is copied by a JS loop (when ASCII): cheaper than a call into C++. */
const SHORT_STRING = 64;

/**
 * A growable buffer of protobuf wire format, written field by field: varints, fixed-width numbers, strings and
 * nested messages whose length is patched in when they end (one byte is reserved for it, two for a span, and the
 * body moved along in the rare case that it needs another size). No objects are made per field: an OTLP span is written straight
 * from the numbers and strings it is made of.
 */
export class ProtobufWriter {
  buf: Buffer;
  pos = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Room for `bytes` more. */
  ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.buf.length) return;
    let size = Math.max(64, this.buf.length * 2);
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** What has been written (a view, not a copy). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /** An unsigned varint below 2^32. */
  varint(value: number): void {
    this.ensure(5);
    const buf = this.buf;
    let v = value >>> 0;
    while (v > 127) {
      buf[this.pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** A signed 64-bit integer as a varint (two's complement: a negative one takes 10 bytes). */
  int64(value: number): void {
    if (value >= 0 && value <= 0xffffffff) {
      this.varint(value);
      return;
    }
    this.ensure(10);
    const buf = this.buf;
    const abs = Math.abs(value);
    let low = abs >>> 0;
    let high = Math.floor(abs / 4294967296) >>> 0;
    if (value < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 127) {
      buf[this.pos++] = (low & 127) | 128;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low;
  }

  fixed32(value: number): void {
    this.ensure(4);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = value;
    buf[p++] = value >>> 8;
    buf[p++] = value >>> 16;
    buf[p++] = value >>> 24;
    this.pos = p;
  }

  /** A fixed64 from its low and high 32 bits (little-endian). */
  fixed64(low: number, high: number): void {
    this.ensure(8);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = low;
    buf[p++] = low >>> 8;
    buf[p++] = low >>> 16;
    buf[p++] = low >>> 24;
    buf[p++] = high;
    buf[p++] = high >>> 8;
    buf[p++] = high >>> 16;
    buf[p++] = high >>> 24;
    this.pos = p;
  }

  double(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** A length-delimited string (its UTF-8 bytes). */
  string(value: string): void {
    const n = value.length;
    if (n < SHORT_STRING) {
      this.ensure(n + 1);
      const buf = this.buf;
      const start = this.pos;
      buf[start] = n;
      let i = 0;
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c > 127) break;
        buf[start + 1 + i] = c;
      }
      if (i === n) {
        this.pos = start + 1 + n;
        return;
      }
    }
    const length = Buffer.byteLength(value, 'utf8');
    this.varint(length);
    this.ensure(length);
    this.buf.write(value, this.pos, length, 'utf8');
    this.pos += length;
  }

  /** Length-delimited bytes written from their hex text (a trace or span id: 32 or 16 digits). */
  hexBytes(hex: string): void {
    const n = hex.length >>> 1;
    this.ensure(n + 5);
    this.varint(n);
    this.pos = decodeHex(hex, this.buf, this.pos);
  }

  /** Length-delimited bytes copied from `from` (a small buffer written once and repeated, e.g. a decoded id). */
  copy(from: Uint8Array, start: number, length: number): void {
    this.ensure(length + 1);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = length; // < 128: ids
    for (let i = 0; i < length; i++) buf[p++] = from[start + i]!;
    this.pos = p;
  }

  /** The first `length` bytes of `from`, as they are (a part encoded once, written again: see encodeOtlpSpans). */
  raw(from: Uint8Array, length: number): void {
    this.ensure(length);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < length; i++) buf[p++] = from[i]!;
    this.pos = p;
  }

  /** Length-delimited bytes. */
  lengthPrefixed(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Starts a nested message: returns where its length goes, to give to `end`. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  /**
   * Starts a nested message expected to be 128 bytes to 16 KiB long (a span): two bytes are reserved for its
   * length, so that `end2` moves nothing in the usual case.
   */
  begin2(): number {
    this.ensure(2);
    const at = this.pos;
    this.pos += 2;
    return at;
  }

  /** Ends the nested message begun at `at` by `begin`: writes its length there, moving the body if it needs more than a byte. */
  end(at: number): void {
    const length = this.pos - at - 1;
    if (length < 128) {
      this.buf[at] = length;
      return;
    }
    this.patchLength(at, 1, length);
  }

  /** Ends the nested message begun at `at` by `begin2`. */
  end2(at: number): void {
    const length = this.pos - at - 2;
    if (length >= 128 && length < 1 << 14) {
      this.buf[at] = (length & 127) | 128;
      this.buf[at + 1] = length >>> 7;
      return;
    }
    this.patchLength(at, 2, length);
  }

  /** Writes `length` as a varint at `at`, where `reserved` bytes were kept for it, moving the body as needed. */
  private patchLength(at: number, reserved: number, length: number): void {
    const size = length < 1 << 7 ? 1 : length < 1 << 14 ? 2 : length < 1 << 21 ? 3 : length < 1 << 28 ? 4 : 5;
    if (size !== reserved) {
      this.ensure(size - reserved);
      this.buf.copyWithin(at + size, at + reserved, this.pos);
      this.pos += size - reserved;
    }
    const buf = this.buf;
    let v = length;
    let p = at;
    while (v > 127) {
      buf[p++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[p] = v;
  }
}

/** Writes the bytes of `hex` into `out` at `at`; returns the position after them. Throws on a non-hex digit. */
export function decodeHex(hex: string, out: Uint8Array, at: number): number {
  let p = at;
  for (let i = 0; i < hex.length; i += 2) {
    const hi = HEX[hex.charCodeAt(i)] ?? -1;
    const lo = HEX[hex.charCodeAt(i + 1)] ?? -1;
    if (hi < 0 || lo < 0) throw new Error(`not a hex id: ${JSON.stringify(hex)}`);
    out[p++] = (hi << 4) | lo;
  }
  return p;
}
