// The load generator lives in local/ (the demo uses it too); tests import it from here.
export * from '../../local/write-load.js';
