import { Sealer, sealingKey } from '../../src/lib/sealing';

/**
 * The keys every test process and every Tock process the tests spawn use: global-setup puts them in
 * the environment (TOCK_ADMIN_KEY, TOCK_ENCRYPTION_KEY), so nothing is generated in the checkout.
 */
export const TEST_ADMIN_KEY = 'tock_test_admin_key_0123456789abcdef';
export const TEST_ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

export function testSealer(): Sealer {
  return new Sealer(sealingKey(process.env.TOCK_ENCRYPTION_KEY ?? TEST_ENCRYPTION_KEY));
}

/** The Authorization header of the admin key (what a request sends unless it says otherwise). */
export const ADMIN = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
