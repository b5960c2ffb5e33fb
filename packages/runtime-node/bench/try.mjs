import { initRuntime, formatBackendDescription } from '/work/main/packages/runtime-node/dist/index.js';
const r = await initRuntime(JSON.parse(process.argv[2] || '{}'));
console.log(r.backend, JSON.stringify(r.skipped), formatBackendDescription(r.description));
