import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

// The core and everything runtime-agnostic must use Web APIs only; Node-only pieces live in
// src/adapters (and the Node entry, src/index.node.ts).
const root = new URL('../src/', import.meta.url).pathname;
const WEB_ONLY = ['core', 'decorator', 'storage', 'discovery', 'service-account'];

function files(dir: string): string[] {
  let out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(files(path));
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('the Web-API-only rule', () => {
  const checked = WEB_ONLY.flatMap((d) => {
    try {
      return files(join(root, d));
    } catch {
      return [];
    }
  });

  it('finds the folders it checks', () => {
    assert.ok(
      checked.length >= 10,
      `only ${checked.length} files found under ${WEB_ONLY.join(', ')}`,
    );
  });

  it('no node: import, no process, no Buffer, no require outside src/adapters', () => {
    const offenders: string[] = [];
    for (const file of checked) {
      const code = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      const rel = relative(root, file);
      if (/from\s+['"]node:|import\(\s*['"]node:/.test(code))
        offenders.push(`${rel}: node: import`);
      if (/\bprocess\.(env|argv|exit|cwd)/.test(code)) offenders.push(`${rel}: process`);
      if (/\bBuffer\./.test(code)) offenders.push(`${rel}: Buffer`);
      if (/\brequire\(/.test(code)) offenders.push(`${rel}: require()`);
    }
    assert.deepEqual(offenders, []);
  });
});
