/**
 * The first key that appears twice in one object of a JSON text, or undefined. `JSON.parse`
 * keeps the last value silently, so `{"project":"nope","project":"demo"}` would read as one thing
 * to a person or another parser and as another here: such a text is refused instead.
 *
 * Call it only on text `JSON.parse` accepted: it skips strings and tracks only `{ } [ ] ,`,
 * which is enough once the text is known to be valid. Keys are compared decoded, so `"a"` and
 * `"\u0061"` are the same key.
 */
export function duplicateJsonKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: Array<Set<string> | null> = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = open[open.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
      i = end;
    } else if (c === '{') {
      open.push(new Set());
      expectKey = true;
    } else if (c === '[') {
      open.push(null);
    } else if (c === '}' || c === ']') {
      open.pop();
    } else if (c === ',') {
      expectKey = open[open.length - 1] != null;
    }
  }
  return undefined;
}
