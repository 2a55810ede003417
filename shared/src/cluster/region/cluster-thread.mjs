// Bootstrap of a cluster thread of an embedded region run: the sources are TypeScript, loaded through tsx.
import { register } from 'tsx/esm/api';

register();
await import('./cluster-thread.ts');
