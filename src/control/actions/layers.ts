/**
 * Layer actions: BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart,
 * CompleteLayerUpload, GetDownloadUrlForLayer.
 */
import type { ActionHandler } from "../context";

export const layerActions: Record<string, ActionHandler> = {};
