// Prints, one per line, the `Name: value` headers that scripts/fuzz-api.sh gives Schemathesis:
// the anon key, a signed-in admin's access token (so every operation of docs/openapi.json can
// reach its handler) and a webhook API key.
import { readFileSync } from 'node:fs';
import { stack, userWithRole } from './stack.mjs';

const admin = await userWithRole('admin', 'api-fuzz-admin');
const vars = readFileSync(process.env.DEVSTACK_DEV_VARS, 'utf8');
const webhookKey = /^WEBHOOK_API_KEYS="([^",]+)/m.exec(vars)[1];
console.log(`apikey: ${stack.anonKey}`);
console.log(`Authorization: Bearer ${admin.session.access_token}`);
console.log(`X-API-Key: ${webhookKey}`);
