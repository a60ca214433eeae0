/** SKELETON (issue 20 contract): filled in by its owner. */
export {};
