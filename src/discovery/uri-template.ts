/**
 * The two RFC 6570 expressions discovery paths use: simple `{name}` and reserved `{+name}`.
 *
 * @module
 */

const HEX = '0123456789ABCDEF';
const UNRESERVED = /[A-Za-z0-9\-._~]/;
// gen-delims and sub-delims (RFC 3986 section 2.2): kept as they are by `{+name}`.
const RESERVED = /[:/?#[\]@!$&'()*+,;=]/;
const encoder = new TextEncoder();

function percentEncode(char: string): string {
  let out = '';
  for (const byte of encoder.encode(char)) out += '%' + HEX[byte >> 4] + HEX[byte & 15];
  return out;
}

/**
 * Encodes a value for a URI template expression.
 *
 * @param value the value to encode
 * @param reserved `true` for `{+name}`: reserved characters and `%XX` triplets pass through
 * @returns the encoded text
 * @see https://www.rfc-editor.org/rfc/rfc6570#section-3.2.1
 * @example
 * ```ts
 * encodeTemplateValue('a/b c', false); // 'a%2Fb%20c'
 * encodeTemplateValue('projects/p', true); // 'projects/p'
 * ```
 */
export function encodeTemplateValue(value: string, reserved: boolean): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const char = value[i]!;
    if (UNRESERVED.test(char)) {
      out += char;
    } else if (reserved && RESERVED.test(char)) {
      out += char;
    } else if (reserved && char === '%' && /^[0-9A-Fa-f]{2}$/.test(value.slice(i + 1, i + 3))) {
      out += value.slice(i, i + 3);
      i += 2;
    } else {
      // Keep surrogate pairs together so that they encode as one UTF-8 sequence.
      const code = value.codePointAt(i)!;
      const whole = String.fromCodePoint(code);
      out += percentEncode(whole);
      i += whole.length - 1;
    }
  }
  return out;
}

/**
 * Expands the `{name}` and `{+name}` expressions of a discovery path template.
 *
 * @param template a path such as `v1/{+parent}/{collectionId}`
 * @param values the path parameter values, already turned into strings
 * @returns the expanded path
 * @throws {TypeError} on an expression this client does not know (`{?x}`, `{/x}`, ...), or a
 *   variable with no value
 * @example
 * ```ts
 * expandPath('b/{bucket}/o/{object}', { bucket: 'b1', object: 'a/b.txt' }); // 'b/b1/o/a%2Fb.txt'
 * ```
 */
export function expandPath(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([^}]*)\}/g, (_, expression: string) => {
    const reserved = expression.startsWith('+');
    const name = reserved ? expression.slice(1) : expression;
    if (!/^[A-Za-z0-9_.$-]+$/.test(name)) {
      throw new TypeError(`unsupported URI template expression {${expression}} in "${template}"`);
    }
    const value = values[name];
    if (value === undefined) throw new TypeError(`no value for {${expression}} in "${template}"`);
    return encodeTemplateValue(value, reserved);
  });
}
