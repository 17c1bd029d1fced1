// The hasher lives in the platform: the identifier node hashes Handle secret keys the same way.
export { generateSecret, hashSecret, verifySecret } from '@iip/platform-auth';
