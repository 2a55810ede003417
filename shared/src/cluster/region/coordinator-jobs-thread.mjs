// Bootstrap of a cluster coordinator thread: the sources are TypeScript, loaded through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./coordinator-jobs-thread.ts');
