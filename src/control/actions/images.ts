/**
 * Image actions: DescribeImages, ListImages, BatchGetImage, BatchDeleteImage, PutImage.
 */
import type { ActionHandler } from "../context";

export const imageActions: Record<string, ActionHandler> = {};
