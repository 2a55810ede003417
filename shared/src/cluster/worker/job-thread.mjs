// Bootstrap of a simulation thread: the sources are TypeScript, loaded through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./job-thread.ts');
