/**
 * `npm run openapi`: writes openapi.yaml from the zod schemas (src/api/openapi/) with the built-in
 * handlers. test/unit/openapi.test.ts fails while the committed file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { OPENAPI_PATH } from '../src/api/app';
import { renderOpenApiYaml } from '../src/api/openapi/document';
import { builtinHandlers, HandlerRegistry } from '../src/handlers/registry';

const yaml = renderOpenApiYaml(new HandlerRegistry(builtinHandlers({ allowPrivateNetworks: false })));
writeFileSync(OPENAPI_PATH, yaml);
process.stdout.write(`wrote ${OPENAPI_PATH} (${yaml.split('\n').length - 1} lines)\n`);
