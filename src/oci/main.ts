// The minidock-runc program's entry point (bundled as dist/bundle/minidock-runc.js).
import { main } from './cli.js';

await main();
