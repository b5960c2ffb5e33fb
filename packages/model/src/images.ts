// Image preprocessing is shared by every method: it lives in @thfr/detector.
export { imagesToTensor } from '@thfr/detector';
export type { RgbImageLike } from '@thfr/detector';
