/**
 * The sentence-embedding model of the local `chat` endpoint (all-MiniLM-L6-v2 exported to ONNX into the
 * virtualenv); the logic lives in controller/src/local/python-env.ts.
 */
export {
  EMBEDDING_MODEL_DIR, embeddingModelIsReady, ensureEmbeddingModel, requireEmbeddingModel,
} from "../../controller/src/local/python-env.ts";
