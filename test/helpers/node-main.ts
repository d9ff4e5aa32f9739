// Entry point of a Lifeline node run as its own process (see node-process.ts): a reference
// server on 127.0.0.1, port 0, over the Redis named in argv, at the default heartbeat. It
// prints its port once listening and runs until killed.
import { createServer, redisBroker } from '../../src/server.js';

const [url, keyPrefix] = process.argv.slice(2);
const server = createServer({ broker: redisBroker({ url: url!, keyPrefix: keyPrefix!, reconnectDelay: () => 50 }), path: '/rt' });
const { port } = await server.listen(0, '127.0.0.1');
process.stdout.write(`listening ${port}\n`);
