package dev.l1ra.job.run;

import dev.l1ra.core.run.RunFingerprint;
import dev.l1ra.job.report.RunPaths;
import dev.l1ra.model.train.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a run starts: from nothing, from its newest checkpoint (after checking that the config
 * still describes the same run: {@link RunFingerprint}), or nowhere because it is finished (its
 * final checkpoint and report.json and adapter exist).
 *
 * @param checkpoint the checkpoint to resume, or null to start from scratch
 * @param state its scalar state, or null
 * @param finished the checkpoint is at (or past) the run's last step and its outputs exist
 */
public record Resume(Path checkpoint, Checkpoint.State state, boolean finished) {
  private static final Logger LOG = LoggerFactory.getLogger(Resume.class);

  /**
   * Decides for the run in {@code paths}.
   *
   * @param fingerprint what the config describes now
   * @param totalSteps the run's steps under the config now
   * @throws IllegalStateException naming keys and fixes when the checkpoint is another run's
   */
  public static Resume decide(
      RunPaths paths, String run, Map<String, String> fingerprint, int totalSteps) {
    Optional<Path> latest = Checkpoint.latest(paths.checkpoints());
    if (latest.isEmpty()) {
      return new Resume(null, null, false);
    }
    Path ckpt = latest.get();
    Checkpoint.State s = Checkpoint.readState(ckpt);
    check(paths, run, ckpt, s, fingerprint);
    boolean outputs = Files.isRegularFile(paths.report()) && Files.isDirectory(paths.adapter());
    if (s.step() > totalSteps && !outputs) {
      throw new IllegalStateException(
          "checkpoint "
              + ckpt
              + " is at step "
              + s.step()
              + ", past the "
              + totalSteps
              + " steps the config asks for; set train.steps to at least "
              + s.step()
              + ", or start over with --fresh");
    }
    return new Resume(ckpt, s, s.step() >= totalSteps && outputs);
  }

  /** Refuses another run's checkpoint; an old one without a fingerprint resumes with a warning. */
  private static void check(
      RunPaths paths, String run, Path ckpt, Checkpoint.State s, Map<String, String> now) {
    if (s.fingerprint() == null) {
      LOG.warn(
          "checkpoint {} has no fingerprint (written by an older version): resuming it without"
              + " checking that the config describes the same run",
          ckpt);
      return;
    }
    List<RunFingerprint.Mismatch> bad = RunFingerprint.compare(s.fingerprint(), now);
    if (!bad.isEmpty()) {
      throw new IllegalStateException(RunFingerprint.refusal(run, ckpt, paths.config(), bad));
    }
  }

  public boolean resumes() {
    return checkpoint != null;
  }
}
