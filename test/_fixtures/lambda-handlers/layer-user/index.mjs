// Loads a package that only the layer ships (/opt/nodejs/node_modules), through NODE_PATH.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const greeting = require('layer-greeting');

export const handler = async (event) => ({ greeting: greeting.greet(event?.name ?? 'world'), from: require.resolve('layer-greeting') });
