import { main } from '../worker/main.js';

process.exitCode = await main();
