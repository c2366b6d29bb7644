/** One layer of the image being built: its blob and its diff ID. */
export interface LayerRef {
  diffId: string;
  digest: string;
  size: number;
  mediaType: string;
}

/** An image history entry as the OCI config stores it. */
export interface HistoryItem {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/**
 * A filesystem state during a build: the cache key that names it, the committed
 * snapshot holding it (absent for an empty filesystem), and the layers and
 * history that describe it in an image.
 */
export interface FsState {
  key: string;
  snapshot?: string;
  layers: LayerRef[];
  history: HistoryItem[];
}
