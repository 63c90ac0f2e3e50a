import { createHash } from 'node:crypto';

/**
 * Makes any value storable as Postgres jsonb/text, whatever a sender put in it, and says what was cut.
 * Postgres refuses a whole statement for one NUL character (`\u0000` in jsonb, a 0 byte in text), for a lone
 * UTF-16 surrogate (JSON.stringify writes `"\ud800"`, which jsonb rejects), and JSON.stringify itself throws
 * past about 10,000 levels of nesting; a 64 KiB body can nest 32,000 levels. So strings and keys get U+FFFD in
 * place of those characters, nesting deeper than `maxDepth` is replaced by a marker, and the value is kept up
 * to `maxBytes` of JSON, in document order (the first members are the ones kept).
 */

export type CutReason = 'text' | 'depth' | 'size';

export interface Cut {
  /** text: characters replaced; depth: nesting replaced by a marker; size: members or string tails left out. */
  reasons: CutReason[];
  /** Characters replaced by U+FFFD (NUL, lone surrogates). */
  replacedChars: number;
  limitBytes: number;
  maxDepth?: number;
}

export interface Storable {
  value: unknown;
  /** UTF-8 bytes of the kept value's JSON (an upper bound: a member cut off may still be counted). */
  bytes: number;
  /** Null when the value is kept whole and unchanged. */
  cut: Cut | null;
  /**
   * SHA-256 (hex) of the whole input's JSON, as JSON.stringify would write it, before anything was cut: with
   * `digest`, when something was cut. A value kept whole has none: its JSON (`json`) is the whole value's, so its
   * digest is that text's, which a reader computes when it needs it (the API's detail does, in Postgres).
   */
  sha256?: string;
  /** The kept value's JSON text, when it was made on the way (the common case: nothing cut). */
  json?: string;
}

export interface StorableLimits {
  maxBytes: number;
  maxDepth: number;
  /** Also compute the digest of the whole value when what is kept is not all of it (see Storable.sha256). */
  digest?: boolean;
}

const UNSTORABLE_SOURCE = '\\u0000|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]';
const HAS_UNSTORABLE = new RegExp(UNSTORABLE_SOURCE);
/** NUL or any surrogate: a quick test without look-arounds (a paired surrogate, an emoji, then takes the exact one). */
const MAY_BE_UNSTORABLE = /[\u0000\ud800-\udfff]/;
const UNSTORABLE = new RegExp(UNSTORABLE_SOURCE, 'g');
const REPLACEMENT = '\ufffd';
/** A string is cut only if at least this much of it fits; below that, the member is left out. */
const MIN_STRING_HEAD_BYTES = 16;

/** `s` with NUL and lone surrogates replaced, and how many were. */
export function cleanText(s: string): { text: string; replaced: number } {
  if (!MAY_BE_UNSTORABLE.test(s) || !HAS_UNSTORABLE.test(s)) return { text: s, replaced: 0 };
  let replaced = 0;
  const text = s.replace(UNSTORABLE, () => {
    replaced += 1;
    return REPLACEMENT;
  });
  return { text, replaced };
}

/** A head of `s` (close to the longest) whose UTF-8 form fits in `maxBytes`, never splitting a surrogate pair. */
export function headOfText(s: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (s.length <= maxBytes / 3 || Buffer.byteLength(s) <= maxBytes) return s;
  let head = s.slice(0, maxBytes);
  for (let size = Buffer.byteLength(head); size > maxBytes; size = Buffer.byteLength(head)) {
    head = head.slice(0, Math.max(0, Math.min(head.length - 1, Math.floor((head.length * maxBytes) / size))));
  }
  const last = head.charCodeAt(head.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? head.slice(0, -1) : head;
}

/** UTF-8 bytes of a string's JSON form, escapes and quotes included. */
function jsonBytesOf(s: string): number {
  return Buffer.byteLength(JSON.stringify(s));
}

/** A head of `s` (close to the longest) whose JSON form (quotes, escapes) fits in `maxBytes`. */
function headOfJsonString(s: string, maxBytes: number): string {
  let head = headOfText(s, maxBytes - 2);
  for (let size = jsonBytesOf(head); size > maxBytes && head.length > 0; size = jsonBytesOf(head)) {
    const headBytes = Buffer.byteLength(head);
    head = headOfText(head, Math.min(headBytes - 1, Math.floor((headBytes * maxBytes) / size)));
  }
  return head;
}

/** A text column: cleaned and cut to `maxBytes`. */
export function makeStorableText(s: string, maxBytes: number): { text: string; cut: Cut | null } {
  const { text, replaced } = cleanText(s);
  const head = headOfText(text, maxBytes);
  const reasons: CutReason[] = [];
  if (replaced > 0) reasons.push('text');
  if (head.length < text.length) reasons.push('size');
  return { text: head, cut: reasons.length > 0 ? { reasons, replacedChars: replaced, limitBytes: maxBytes } : null };
}

interface Frame {
  /** Members still to visit: [key, value] for objects, [index, value] for arrays. */
  members: Array<[string | number, unknown]>;
  next: number;
  isArray: boolean;
  /** Where kept members go; null once this container is no longer kept (too deep or out of room). */
  out: Record<string, unknown> | unknown[] | null;
  depth: number;
}

/** JSON.stringify's escapes of what Postgres refuses: NUL and lone surrogates (paired ones are written as is). */
const UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f])/i;

/** Whether JSON text nests at most `maxDepth` levels (brackets inside strings do not count). */
function nestsAtMost(json: string, maxDepth: number): boolean {
  // No more opening brackets in all (strings included) than the limit: it cannot nest deeper. Found with indexOf,
  // so an alert (one to three brackets) is not scanned character by character.
  let opening = 0;
  for (let i = json.indexOf('{'); i !== -1 && opening <= maxDepth; i = json.indexOf('{', i + 1)) opening += 1;
  for (let i = json.indexOf('['); i !== -1 && opening <= maxDepth; i = json.indexOf('[', i + 1)) opening += 1;
  if (opening <= maxDepth) return true;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92) i += 1; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return false;
    } else if (c === 125 || c === 93) depth -= 1;
  }
  return true;
}

/**
 * Whether `input` is a flat object of strings, numbers and booleans whose JSON surely fits in `maxBytes` and holds
 * nothing Postgres refuses (NUL, any surrogate): makeStorable would keep it as it is, so it is kept without writing
 * its JSON first. The bound counts 6 bytes a character (JSON's longest escape, `\u001f`), 24 a number. A stage's
 * metadata (our own attributes: a decision, a signal id, an outcome, an error code) always passes; anything else
 * goes through makeStorable.
 */
export function isFlatAndStorable(input: Record<string, unknown>, maxBytes: number): boolean {
  let bytes = 2;
  for (const key in input) {
    const value = input[key];
    if (value === undefined) continue;
    if (typeof value === 'string') {
      if (MAY_BE_UNSTORABLE.test(value)) return false;
      bytes += 6 * value.length + 2;
    } else if (typeof value === 'number' || typeof value === 'boolean') bytes += 24;
    else return false;
    if (MAY_BE_UNSTORABLE.test(key)) return false;
    bytes += 6 * key.length + 4;
    if (bytes > maxBytes) return false;
  }
  return true;
}

/**
 * Keeps `input` within `limits`. The common case (a small, clean alert) costs one JSON.stringify and a scan
 * of its text, and keeps the value as it is; anything else is walked by `makeStorableCopy`.
 */
export function makeStorable(input: unknown, limits: StorableLimits): Storable {
  let json: string | undefined;
  try {
    json = JSON.stringify(input);
  } catch {
    // Too deep for JSON.stringify's recursion (RangeError): the walk below has no such limit.
  }
  if (json !== undefined && json.length <= limits.maxBytes && !UNSTORABLE_ESCAPE.test(json) && nestsAtMost(json, limits.maxDepth)) {
    const bytes = Buffer.byteLength(json);
    if (bytes <= limits.maxBytes) {
      // No digest: the kept JSON is the whole value's (hashing an alert's JSON here cost 1.0 µs of the main
      // thread a webhook in the monitored service's profile, for a figure read a few times a day).
      return { value: input, bytes, cut: null, json };
    }
  }
  return makeStorableCopy(input, limits);
}

/**
 * Walks the value without recursion (any depth is safe), building the kept copy and, if asked, the digest of
 * the whole value's JSON. Objects are copied into prototype-less objects, so a `__proto__` key is just a key.
 */
export function makeStorableCopy(input: unknown, limits: StorableLimits): Storable {
  const hash = limits.digest ? createHash('sha256') : undefined;
  const reasons = new Set<CutReason>();
  let replaced = 0;
  let bytes = 0;
  let full = false;

  const clean = (s: string) => {
    const c = cleanText(s);
    if (c.replaced > 0) {
      replaced += c.replaced;
      reasons.add('text');
    }
    return c.text;
  };
  /** Room for `n` more bytes? If not, the value is full from here on. */
  const fits = (n: number) => {
    if (!full && bytes + n <= limits.maxBytes) return true;
    full = true;
    reasons.add('size');
    return false;
  };
  const isContainer = (v: unknown): v is object => typeof v === 'object' && v !== null;
  const membersOf = (v: object): Array<[string | number, unknown]> =>
    Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v).filter(([, x]) => x !== undefined && typeof x !== 'function');
  /** A primitive's JSON as JSON.stringify writes it (undefined, functions and symbols as null, as in arrays). */
  const primitiveJson = (v: unknown): string => {
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'boolean') return String(v);
    if (typeof v === 'bigint') return JSON.stringify(String(v));
    return 'null';
  };
  /** The kept form of a primitive (a string may lose its tail), or undefined when it does not fit. */
  const keepPrimitive = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const text = clean(v);
      const size = jsonBytesOf(text);
      if (fits(size)) {
        bytes += size;
        return text;
      }
      const room = limits.maxBytes - bytes;
      if (room < MIN_STRING_HEAD_BYTES) return undefined;
      const head = headOfJsonString(text, room);
      bytes += jsonBytesOf(head);
      return head;
    }
    const json = primitiveJson(v);
    if (!fits(json.length)) return undefined;
    bytes += json.length;
    return JSON.parse(json) as unknown;
  };
  const depthMarker = `[cut: nested deeper than ${limits.maxDepth} levels]`;

  const stack: Frame[] = [];
  /** Starts a container: returns its kept copy (or null) and pushes its frame. */
  const open = (v: object, depth: number, keep: boolean): Record<string, unknown> | unknown[] | null => {
    const isArray = Array.isArray(v);
    let out: Record<string, unknown> | unknown[] | null = null;
    if (keep) {
      if (depth > limits.maxDepth) reasons.add('depth');
      else if (fits(2)) {
        bytes += 2;
        out = isArray ? [] : (Object.create(null) as Record<string, unknown>);
      }
    }
    // A subtree that is not kept is walked only for the digest.
    if (out === null && !hash) return null;
    hash?.update(isArray ? '[' : '{');
    stack.push({ members: membersOf(v), next: 0, isArray, out, depth });
    return out;
  };

  let root: unknown;
  if (isContainer(input)) {
    root = open(input, 1, true);
    if (root === null) root = depthMarker;
  } else {
    hash?.update(primitiveJson(input));
    root = keepPrimitive(input) ?? null;
  }

  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next >= frame.members.length) {
      hash?.update(frame.isArray ? ']' : '}');
      stack.pop();
      continue;
    }
    const [key, value] = frame.members[frame.next]!;
    if (frame.next > 0) hash?.update(',');
    frame.next += 1;
    if (!frame.isArray) hash?.update(`${JSON.stringify(key)}:`);
    let outKey: string | undefined;
    const separator = frame.next > 1 ? 1 : 0;
    if (frame.out && !frame.isArray) {
      outKey = clean(String(key));
      const keySize = jsonBytesOf(outKey) + 1 + separator;
      if (fits(keySize)) bytes += keySize;
      else outKey = undefined;
    } else if (frame.out && frame.isArray) {
      if (fits(separator)) bytes += separator;
    }
    const keepHere = frame.out !== null && (frame.isArray ? !full : outKey !== undefined);
    let kept: unknown;
    if (isContainer(value)) {
      const child = open(value, frame.depth + 1, keepHere);
      if (keepHere) {
        if (child !== null) kept = child;
        else if (frame.depth + 1 > limits.maxDepth && fits(depthMarker.length + 2)) {
          bytes += depthMarker.length + 2;
          kept = depthMarker;
        }
      }
    } else {
      const ignored = typeof value === 'undefined' || typeof value === 'function' || typeof value === 'symbol';
      hash?.update(ignored ? 'null' : primitiveJson(value));
      if (keepHere) kept = keepPrimitive(ignored ? null : value);
    }
    if (kept === undefined || frame.out === null) continue;
    if (Array.isArray(frame.out)) frame.out.push(kept);
    else frame.out[outKey!] = kept;
  }

  const cut: Cut | null =
    reasons.size > 0 ? { reasons: [...reasons], replacedChars: replaced, limitBytes: limits.maxBytes, maxDepth: limits.maxDepth } : null;
  return { value: root, bytes, cut, ...(hash ? { sha256: hash.digest('hex') } : {}) };
}
