import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { GitAuth, ProjectConfig } from './project-config.js';

export const REDACTED = '***';

// Secret pieces shorter than this are not redacted: they would blank out ordinary words. The
// config schema refuses secrets this short, so only fragments (lines of a key) can be.
const MIN_PIECE = 8;

// How much text a group of streams may hold back to keep each stream's own view exact (see
// RedactingGroup). Past it, only the merged view is kept exact: memory stays bounded.
const MAX_HELD = 64 * 1024;

/**
 * Every string that would reveal a credential if printed: the values themselves, what git sends
 * (`user:password` for basic auth), and the private key. {@link Redactor} adds their encodings.
 */
export function secretValues(auth: GitAuth): string[] {
  switch (auth.kind) {
    case 'none':
      return [];
    case 'token':
      return [auth.token];
    case 'basic':
      return [auth.password, `${auth.username}:${auth.password}`];
    case 'ssh':
      return [auth.privateKey];
  }
}

/**
 * Every secret a resolved project holds: its git credentials' values ({@link secretValues}) and
 * the commit status token. One list, for every redactor and for what the deploy command may not see.
 */
export function projectSecrets(config: Pick<ProjectConfig, 'auth' | 'commitStatus'>): string[] {
  return [
    ...secretValues(config.auth),
    ...(config.commitStatus === undefined ? [] : [config.commitStatus.token]),
  ];
}

/**
 * The forms a secret commonly takes in output, other than itself: base64 (standard and URL-safe,
 * whole, and the part that is the same wherever the secret sits in a longer base64 stream: its
 * three alignments), hex, percent-encoding (as `encodeURIComponent` and RFC 3986 write it, and as
 * form-encoded with `+` for a space; upper and lower case hex), and JSON string escapes (with `\/`,
 * with `\uXXXX` for non-ASCII, lower or upper case hex).
 */
export function encodedForms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = [bytes.toString('hex'), bytes.toString('hex').toUpperCase()];
  for (const b64 of [bytes.toString('base64'), ...base64Cores(bytes)]) {
    forms.push(b64, b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  }
  const uri = encodeURIComponent(secret);
  const strict = uri.replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  // A form body or query string writes a space as `+`: after encodeURIComponent's rules, after
  // RFC 3986's (Python's quote_plus) and after URLSearchParams' (which also encodes `~`, not `*`).
  const formEncoded = new URLSearchParams({ s: secret }).toString().slice('s='.length);
  for (const form of [uri, strict, uri.replace(/%20/g, '+'), strict.replace(/%20/g, '+'), formEncoded]) {
    forms.push(
      form,
      form.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()),
    );
  }
  const json = JSON.stringify(secret).slice(1, -1);
  const ascii = json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  forms.push(
    json,
    json.replace(/\//g, '\\/'),
    ascii,
    // Upper-case hex digits (`\u00E9`, as some serializers write them); the `u` itself stays lower case.
    ascii.replace(/\\u([0-9a-f]{4})/g, (_, hex: string) => `\\u${hex.toUpperCase()}`),
  );
  return [...new Set(forms)].filter((form) => form !== secret);
}

/**
 * The base64 characters that depend only on the secret's bytes, for each of the three offsets
 * (mod 3) at which it can start inside a longer stream: `base64("x-access-token:" + token)`
 * contains one of them whatever the prefix.
 */
function base64Cores(bytes: Buffer): string[] {
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    // Character i carries bits [6i, 6i + 6); the secret's bits are [8 shift, 8 (shift + n)).
    const start = Math.ceil((8 * shift) / 6);
    const end = Math.floor((8 * (shift + bytes.length)) / 6);
    cores.push(encoded.slice(start, end));
  }
  return cores;
}

/**
 * Replaces secret values, and their common encodings, in text. Pieces are split on line breaks,
 * so that a streaming redactor can always cut at a line break without cutting through a secret.
 */
export class Redactor {
  private readonly pieces: string[];
  readonly longest: number;

  constructor(secrets: readonly string[]) {
    const pieces = new Set<string>();
    const add = (piece: string) => {
      if (piece.length >= MIN_PIECE) pieces.add(piece);
    };
    for (const secret of secrets) {
      // Each line of a multi-line secret (a key) on its own, without the key's armour lines.
      for (const line of secret.split(/[\r\n]+/)) if (!line.trim().startsWith('-----')) add(line.trim());
      // No encoded form holds a line break: each is one piece.
      for (const form of encodedForms(secret)) for (const piece of form.split(/[\r\n]+/)) add(piece);
    }
    // Longest first, so a secret that contains another is found whole.
    this.pieces = [...pieces].sort((a, b) => b.length - a.length);
    this.longest = this.pieces[0]?.length ?? 0;
  }

  redact(text: string): string {
    return this.apply(text, this.occurrences(text));
  }

  /** Every occurrence of a piece in `text`, as [start, end) intervals, sorted and merged. */
  occurrences(text: string): Interval[] {
    const found: Interval[] = [];
    for (const piece of this.pieces) {
      for (let at = text.indexOf(piece); at !== -1; at = text.indexOf(piece, at + 1)) {
        found.push([at, at + piece.length]);
      }
    }
    return mergeIntervals(found);
  }

  /** `text` with each merged interval replaced by one REDACTED. */
  apply(text: string, intervals: readonly Interval[], offset = 0): string {
    const out: string[] = [];
    let from = 0;
    for (const [start, end, continued] of intervals) {
      const a = Math.max(0, start - offset);
      const b = Math.min(text.length, end - offset);
      if (b <= 0 || a >= text.length) continue;
      out.push(text.slice(from, a));
      // An interval that began before this text, or continues a secret shown as REDACTED in an
      // earlier part of the same stream, adds none.
      if (start - offset >= 0 && continued !== true) out.push(REDACTED);
      from = b;
    }
    out.push(text.slice(from));
    return out.join('');
  }

  /** A stream that redacts bytes passing through, holding back only what could start a secret. */
  stream(): Transform {
    const [only] = this.streams(1);
    if (only === undefined) throw new Error('unreachable: a group of one has one stream');
    return only;
  }

  /**
   * Streams redacted as one: what they carry is matched both in the order it arrived across all
   * of them (the order in which a log that merges them, like stdout and stderr in CodeBuild,
   * shows it) and within each, so a secret split between stdout and stderr is caught too.
   */
  streams(count: number): Transform[] {
    return new RedactingGroup(this, count).members;
  }

  /** Where text can be cut without splitting a secret: before the held-back tail, or after a line break. */
  safeCut(text: string): number {
    if (this.longest === 0) return text.length;
    let cut = Math.max(0, text.length - (this.longest - 1));
    const lastBreak = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
    if (lastBreak + 1 > cut) cut = lastBreak + 1;
    // A secret that starts before the cut and ends after it moves the cut to its end, which may
    // in turn land inside another occurrence: repeat until no occurrence straddles the cut.
    for (let moved = true; moved; ) {
      moved = false;
      for (const piece of this.pieces) {
        const at = this.straddling(text, piece, cut);
        if (at !== -1) {
          cut = at + piece.length;
          moved = true;
        }
      }
    }
    return cut;
  }

  /** The start of an occurrence of `piece` that begins before `cut` and ends after it, or -1. */
  straddling(text: string, piece: string, cut: number): number {
    let at = text.indexOf(piece, Math.max(0, cut - piece.length + 1));
    while (at !== -1 && at < cut) {
      if (at + piece.length > cut) return at;
      at = text.indexOf(piece, at + 1);
    }
    return -1;
  }

  /** The start of the first occurrence of any piece straddling `cut`, or -1. */
  firstStraddling(text: string, cut: number): number {
    let first = -1;
    for (const piece of this.pieces) {
      const at = this.straddling(text, piece, cut);
      if (at !== -1 && (first === -1 || at < first)) first = at;
    }
    return first;
  }
}

interface Segment {
  readonly stream: number;
  text: string;
}

/** One stream's held text, and where each of its runs sits in the merged text. */
interface OwnView {
  text: string;
  readonly runs: Array<{ readonly own: number; readonly merged: number; readonly length: number }>;
}

/**
 * The shared state of {@link Redactor.streams}: text not yet released, as segments in arrival
 * order. A prefix is released when no secret can straddle its end, in the merged view or in any
 * single stream's view; released text is redacted in both views and each part goes out on the
 * stream it came in on, so the order across streams is kept.
 */
class RedactingGroup {
  readonly members: GroupMember[];
  private held: Segment[] = [];
  private readonly ended: boolean[];

  constructor(
    private readonly redactor: Redactor,
    count: number,
  ) {
    this.members = Array.from({ length: count }, (_, i) => new GroupMember(this, i));
    this.ended = this.members.map(() => false);
  }

  write(stream: number, text: string): void {
    if (text.length === 0) return;
    const last = this.held[this.held.length - 1];
    if (last?.stream === stream) last.text += text;
    else this.held.push({ stream, text });
    this.release();
  }

  end(stream: number): void {
    this.ended[stream] = true;
    this.release();
  }

  holds(stream: number): boolean {
    return this.held.some((s) => s.stream === stream);
  }

  private release(): void {
    const all = this.ended.every(Boolean);
    const only = this.held.length === 1 ? this.held[0] : undefined;
    if (only !== undefined) {
      // One stream's text only (the usual case): both views are the same text.
      const cut = all ? only.text.length : this.redactor.safeCut(only.text);
      if (cut > 0) {
        this.members[only.stream]?.push(this.redactor.redact(only.text.slice(0, cut)));
        only.text = only.text.slice(cut);
        if (only.text.length === 0) this.held = [];
      }
    } else if (this.held.length > 1) {
      const merged = this.held.map((s) => s.text).join('');
      const own = this.ownViews();
      const cut = all ? merged.length : this.cutAt(merged, own);
      if (cut > 0) this.emit(merged, own, cut);
    }
    for (const member of this.members) member.settle();
  }

  private ownViews(): OwnView[] {
    const own: OwnView[] = this.members.map(() => ({ text: '', runs: [] }));
    let at = 0;
    for (const segment of this.held) {
      const mine = own[segment.stream];
      if (mine === undefined) continue;
      mine.runs.push({ own: mine.text.length, merged: at, length: segment.text.length });
      mine.text += segment.text;
      at += segment.text.length;
    }
    return own;
  }

  private cutAt(merged: string, own: readonly OwnView[]): number {
    let cut = this.redactor.safeCut(merged);
    // Each open stream's own view: a secret it may still complete must stay held. Past
    // MAX_HELD this is given up (only the merged view stays exact), so memory is bounded.
    const perStream = merged.length <= MAX_HELD;
    if (perStream) {
      own.forEach((mine, stream) => {
        if (this.ended[stream] || mine.text.length === 0) return;
        const c = this.redactor.safeCut(mine.text);
        if (c < mine.text.length) cut = Math.min(cut, toMerged(mine, c));
      });
    }
    // Moving the cut back can land inside an occurrence in either view: move it back again to
    // the start of that occurrence, until none straddles it.
    for (let moved = true; moved && cut > 0; ) {
      moved = false;
      const start = this.redactor.firstStraddling(merged, cut);
      if (start !== -1) {
        cut = start;
        moved = true;
      }
      if (!perStream) continue;
      for (const mine of own) {
        const at = this.redactor.firstStraddling(mine.text, ownBelow(mine, cut));
        if (at !== -1 && toMerged(mine, at) < cut) {
          cut = toMerged(mine, at);
          moved = true;
        }
      }
    }
    return cut;
  }

  private emit(merged: string, own: readonly OwnView[], cut: number): void {
    const found = this.redactor.occurrences(merged.slice(0, cut));
    for (const mine of own) {
      for (const [start, end] of this.redactor.occurrences(mine.text.slice(0, ownBelow(mine, cut)))) {
        // An occurrence in one stream's view may span several of its runs: one interval per run.
        for (const run of mine.runs) {
          const a = Math.max(start, run.own);
          const b = Math.min(end, run.own + run.length);
          if (a < b) found.push([run.merged + a - run.own, run.merged + b - run.own, a > start]);
        }
      }
    }
    const intervals = mergeIntervals(found);
    let at = 0;
    // Released parts go out in the order they arrived across the streams (one push per segment),
    // after the held text is updated, so a listener that writes again sees a consistent group.
    const out: Array<[stream: number, text: string]> = [];
    const kept: Segment[] = [];
    for (const segment of this.held) {
      const length = segment.text.length;
      const released = Math.max(0, Math.min(length, cut - at));
      if (released > 0)
        out.push([segment.stream, this.redactor.apply(segment.text.slice(0, released), intervals, at)]);
      if (released < length) kept.push({ stream: segment.stream, text: segment.text.slice(released) });
      at += length;
    }
    this.held = kept;
    for (const [stream, text] of out) if (text.length > 0) this.members[stream]?.push(text);
  }
}

/**
 * [start, end) of redacted text; `continued` when it goes on a secret that began in an earlier
 * part of the same stream (interrupted by another stream), which already shows REDACTED.
 */
type Interval = [start: number, end: number, continued?: boolean];

/** Sorts intervals and merges those that overlap or touch; a merged one starts as its first did. */
function mergeIntervals(intervals: Interval[]): Interval[] {
  intervals.sort((x, y) => x[0] - y[0] || Number(x[2] === true) - Number(y[2] === true));
  const merged: Interval[] = [];
  for (const [start, end, continued] of intervals) {
    const last = merged[merged.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end, continued]);
  }
  return merged;
}

/** The merged position of a stream's own character `i` (its own length maps past its last run). */
function toMerged(view: OwnView, i: number): number {
  for (const run of view.runs) if (i < run.own + run.length) return run.merged + i - run.own;
  const last = view.runs[view.runs.length - 1];
  return last === undefined ? 0 : last.merged + last.length;
}

/** How many of a stream's own characters lie before merged position `cut`. */
function ownBelow(view: OwnView, cut: number): number {
  let count = 0;
  for (const run of view.runs) {
    if (run.merged >= cut) break;
    count += Math.min(run.length, cut - run.merged);
  }
  return count;
}

class GroupMember extends Transform {
  private readonly decoder = new StringDecoder('utf8');
  private pendingFlush: TransformCallback | undefined;

  constructor(
    private readonly group: RedactingGroup,
    private readonly index: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.group.write(this.index, typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.pendingFlush = callback;
    this.group.write(this.index, this.decoder.end());
    this.group.end(this.index);
  }

  /** Ends this stream once its input has ended and none of its text is held any more. */
  settle(): void {
    if (this.pendingFlush === undefined || this.group.holds(this.index)) return;
    const callback = this.pendingFlush;
    this.pendingFlush = undefined;
    callback();
  }
}
