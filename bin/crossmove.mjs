#!/usr/bin/env node
// The `crossmove` command: loads the TypeScript CLI through tsx (no build step).
// Handlers log through Powertools to stdout; on the command line the progress display speaks instead.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../cli/main.ts');
await main();
