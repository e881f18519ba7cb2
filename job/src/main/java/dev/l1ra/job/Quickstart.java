package dev.l1ra.job;

import dev.l1ra.core.config.RunConfig;
import dev.l1ra.core.hf.ModelConfig;
import dev.l1ra.data.CharTokenizer;
import dev.l1ra.data.sample.SampleGenerator;
import dev.l1ra.model.llama.RandomModels;
import java.nio.file.Files;
import java.nio.file.Path;
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

  private Quickstart() {}

  static void prepareModel(RunConfig cfg) {
    Path dir = Path.of(cfg.model().path());
    if (notYetGenerated(cfg)) {
      int vocab = CharTokenizer.write(dir);
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

  /** {@code train} does not generate: a generated model that is missing is named with the fix. */
  static void requireGenerated(RunConfig cfg, String file) {
    if (notYetGenerated(cfg)) {
      throw new IllegalStateException(
          "model.path "
              + cfg.model().path()
              + " is generated (model.generate: "
              + cfg.model().generate()
              + ") by `./submit.sh --local "
              + file
              + "`, which also prepares the data; `train` only trains");
    }
  }

  /** The config asks for a generated model and its weights are not there yet. */
  private static boolean notYetGenerated(RunConfig cfg) {
    Path weights = Path.of(cfg.model().path()).resolve("model.safetensors");
    return cfg.model().generate() != null && !Files.isRegularFile(weights);
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
