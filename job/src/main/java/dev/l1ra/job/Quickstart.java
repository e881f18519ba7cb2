package dev.l1ra.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.core.util.AtomicFiles;
import dev.l1ra.data.sample.SampleGenerator;
import dev.l1ra.model.llama.RandomModels;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Offline assets for a run that asks for them: a randomly initialised model of a named shape with a
 * character-level tokenizer ({@code model.generate}), and the synthetic sample ({@code
 * data.sample}). Nothing is downloaded; existing files are kept.
 */
final class Quickstart {
  private static final Logger LOG = LoggerFactory.getLogger(Quickstart.class);

  /** Llama 3 chat markers first (so the llama3 template works), then printable ASCII. */
  static final List<String> SPECIALS =
      List.of(
          "<|pad|>",
          "<|begin_of_text|>",
          "<|end_of_text|>",
          "<|start_header_id|>",
          "<|end_header_id|>",
          "<|eot_id|>",
          "<unk>");

  private Quickstart() {}

  static void prepareModel(RunConfig cfg) {
    Path dir = Path.of(cfg.model().path());
    if (cfg.model().generate() != null && !Files.isRegularFile(dir.resolve("model.safetensors"))) {
      int vocab = writeCharTokenizer(dir);
      ModelConfig c = RandomModels.shape(cfg.model().generate(), vocab);
      RandomModels.write(dir, withTokens(c), cfg.run().seed());
      LOG.info(
          "generated a randomly initialised {} model ({} parameters) with a character tokenizer in {}",
          cfg.model().generate(),
          c.baseParameters(),
          dir);
    }
    writeSample(cfg);
  }

  /** The generated model's special-token ids: bos <|begin_of_text|>, eos <|eot_id|>, pad 0. */
  private static ModelConfig withTokens(ModelConfig c) {
    return new ModelConfig(
        c.modelType(),
        c.vocabSize(),
        c.hiddenSize(),
        c.intermediateSize(),
        c.numLayers(),
        c.numHeads(),
        c.numKvHeads(),
        c.headDim(),
        c.rmsNormEps(),
        c.rope(),
        c.tieWordEmbeddings(),
        c.biased(),
        c.maxPositionEmbeddings(),
        c.slidingWindow(),
        1,
        List.of(5, 2),
        0,
        c.torchDtype());
  }

  /**
   * Writes a character-level tokenizer.json (a BPE model without merges over printable ASCII,
   * newline and tab, with the Llama 3 chat markers as special tokens); returns the vocab size,
   * rounded up to a multiple of 8.
   */
  static int writeCharTokenizer(Path dir) {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = json.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    ObjectNode model = json.createObjectNode();
    ObjectNode vocab = json.createObjectNode();
    List<String> tokens = new ArrayList<>(SPECIALS);
    tokens.add("\n");
    tokens.add("\t");
    for (char ch = 32; ch < 127; ch++) {
      tokens.add(String.valueOf(ch));
    }
    for (int i = 0; i < tokens.size(); i++) {
      vocab.put(tokens.get(i), i);
      if (i < SPECIALS.size()) {
        ObjectNode t = added.addObject();
        t.put("id", i);
        t.put("content", tokens.get(i));
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", false);
        t.put("special", true);
      }
    }
    root.putNull("normalizer");
    root.putNull("pre_tokenizer");
    root.putNull("post_processor");
    root.putObject("decoder").put("type", "Fuse");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.put("unk_token", "<unk>");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.set("vocab", vocab);
    model.putArray("merges");
    root.set("model", model);
    try {
      Files.createDirectories(dir);
      AtomicFiles.write(dir.resolve("tokenizer.json"), json.writeValueAsBytes(root));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write tokenizer to " + dir + ": " + e, e);
    }
    return (tokens.size() + 7) / 8 * 8;
  }

  /** The synthetic sample named by data.sample, when its file does not exist yet. */
  private static void writeSample(RunConfig cfg) {
    if (cfg.data().sample() == null) {
      return;
    }
    Path p = Path.of(cfg.data().sample().path());
    if (!Files.isRegularFile(p)) {
      SampleGenerator.writeJsonl(
          new SampleGenerator().generate(cfg.data().sample().rows(), cfg.data().sample().seed()),
          p);
      LOG.info(
          "generated {} synthetic rows (seed {}) in {}",
          cfg.data().sample().rows(),
          cfg.data().sample().seed(),
          p);
    }
  }
}
