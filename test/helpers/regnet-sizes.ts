/** The RegNet sizes tf-keras ships, in GFLOPs × 10 (RegNetX002 … RegNetY320). */
export const REGNET_SIZES = ['002', '004', '006', '008', '016', '032', '040', '064', '080', '120', '160', '320'] as const;
