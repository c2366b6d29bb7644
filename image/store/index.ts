export { ContentStore, type StagedBlob, type StageOptions } from './content-store.js';
export {
  type AddImageOptions,
  displayName,
  type ImageRecord,
  ImageStore,
  type LayerRecord,
  openImageStore,
  type RemoveResult,
  type ResolvedImage,
} from './image-store.js';
export { type Lease, LeaseManager, type LeaseResourceKind } from './leases.js';
export { imageSchema } from './schema.js';
