export { type LoadedImage, type LoadOptions, loadArchive } from './load.js';
export { exportRootfs, type ImportOptions, type ImportSource, importRootfs } from './rootfs.js';
export { type SaveOptions, saveArchive } from './save.js';
