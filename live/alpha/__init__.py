"""The live alpha service: RAW's CME events -> reorder buffer -> compute.alpha -> AlphaFrames
on DERIVED, checkpointed in Redis, with `/health`."""
