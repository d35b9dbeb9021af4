import { Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { GitAuth } from './project-config.js';

export const REDACTED = '***';

// Secret pieces shorter than this are not redacted: they would blank out ordinary words. The
// config schema refuses secrets this short, so only fragments (lines of a key) can be.
const MIN_PIECE = 8;

/**
 * Every string that would reveal a credential if printed: the values themselves, the encoded
 * forms git sends (the `Authorization: Basic` value), and each line of a multi-line key.
 */
export function secretValues(auth: GitAuth): string[] {
  switch (auth.kind) {
    case 'none':
      return [];
    case 'token':
      return [auth.token];
    case 'basic':
      return [auth.password, Buffer.from(`${auth.username}:${auth.password}`).toString('base64')];
    case 'ssh':
      return auth.privateKey
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => !line.startsWith('-----'));
  }
}

/**
 * Replaces secret values in text. Secrets are split on line breaks, so that a streaming redactor
 * can always cut at a line break without cutting through a secret.
 */
export class Redactor {
  private readonly pieces: string[];
  readonly longest: number;

  constructor(secrets: readonly string[]) {
    const pieces = new Set<string>();
    for (const secret of secrets) {
      for (const piece of secret.split(/[\r\n]+/)) if (piece.length >= MIN_PIECE) pieces.add(piece);
    }
    // Longest first, so a secret that contains another is replaced whole.
    this.pieces = [...pieces].sort((a, b) => b.length - a.length);
    this.longest = this.pieces[0]?.length ?? 0;
  }

  redact(text: string): string {
    let out = text;
    for (const piece of this.pieces) if (out.includes(piece)) out = out.split(piece).join(REDACTED);
    return out;
  }

  /** A stream that redacts bytes passing through, holding back only what could start a secret. */
  stream(): Transform {
    return new RedactingStream(this);
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
        let at = text.indexOf(piece, Math.max(0, cut - piece.length + 1));
        while (at !== -1 && at < cut) {
          if (at + piece.length > cut) {
            cut = at + piece.length;
            moved = true;
          }
          at = text.indexOf(piece, at + 1);
        }
      }
    }
    return cut;
  }
}

class RedactingStream extends Transform {
  private readonly decoder = new StringDecoder('utf8');
  private held = '';

  constructor(private readonly redactor: Redactor) {
    super();
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    const text = this.held + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const cut = this.redactor.safeCut(text);
    this.held = text.slice(cut);
    if (cut > 0) this.push(this.redactor.redact(text.slice(0, cut)));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const rest = this.held + this.decoder.end();
    this.held = '';
    if (rest.length > 0) this.push(this.redactor.redact(rest));
    callback();
  }
}
