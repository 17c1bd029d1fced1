import { spawn } from 'node:child_process';

/** Runs a command with inherited output; resolves with its exit code. */
export function run(cmd, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', ...options });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', (err) => {
      console.error(`${cmd}: ${err.message}`);
      resolve(1);
    });
  });
}

export async function runOrExit(label, cmd, args, options) {
  const started = Date.now();
  console.log(`» ${label}`);
  const code = await run(cmd, args, options);
  if (code !== 0) {
    console.error(`✗ ${label} failed (exit ${code})`);
    return code;
  }
  console.log(`✓ ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return 0;
}
