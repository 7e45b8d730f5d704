export { logicalCopy, type LogicalCopyOptions, type LogicalCopyOutcome } from './copy.js';
export { copyProgressEvents, copyProgressOf, type CopyProgress, type ProgressListener } from './progress.js';
export { MARKER_SCHEMA, SYSTEM_SCHEMAS } from './inspect.js';
