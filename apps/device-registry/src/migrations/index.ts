import { DeviceImports1765440000000 } from './1765440000000-device-imports';
import { FleetQueryIndexes1765353600000 } from './1765353600000-fleet-query-indexes';
import { CredentialsAndTwins1765267200000 } from './1765267200000-credentials-and-twins';
import { InitialDeviceRegistry1765180800000 } from './1765180800000-initial-device-registry';
import { RenewalIndicators1765526400000 } from './1765526400000-renewal-indicators';
import { RenewalProjects1765540000000 } from './1765540000000-renewal-projects';

export const deviceRegistryMigrations = [
  InitialDeviceRegistry1765180800000,
  CredentialsAndTwins1765267200000,
  FleetQueryIndexes1765353600000,
  DeviceImports1765440000000,
  RenewalIndicators1765526400000,
  RenewalProjects1765540000000,
];
