export { logicalCopy } from './copy.js';
export { copyProgressEvents, type CopyProgress } from './progress.js';
