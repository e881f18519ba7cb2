package dev.l1ra.job.run;

import dev.l1ra.model.train.StopRequest;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM (spot preemption, scheduler time limits) and SIGINT (Ctrl-C) during training: the first
 * one asks the training loop to stop at the next step boundary with a checkpoint ({@link #REQUEST};
 * the CLI then prints one line saying how to resume and exits 143 or 130). Outside training, or on
 * a second signal, the JVM's own handling follows (exit, shutdown hooks run); every output is
 * written atomically, so nothing half-written remains.
 *
 * <p>Only the CLI installs the handlers ({@code sun.misc.Signal}, module jdk.unsupported: no {@code
 * --add-opens} needed on Java 17); hosts that own the JVM (Databricks) keep theirs.
 */
public final class StopSignals {
  private static final Logger LOG = LoggerFactory.getLogger(StopSignals.class);

  /** The request the training loop of this process listens to. */
  public static final StopRequest REQUEST = new StopRequest();

  private StopSignals() {}

  /** Installs the handlers for TERM and INT; a JVM that reserves them (-Xrs) keeps its own. */
  public static void install() {
    for (String name : List.of("TERM", "INT")) {
      try {
        Signal signal = new Signal(name);
        SignalHandler[] previous = new SignalHandler[1];
        previous[0] = Signal.handle(signal, s -> onSignal(s, previous[0]));
      } catch (IllegalArgumentException | UnsupportedOperationException e) {
        LOG.debug("SIG{} stays with the JVM: {}", name, e.toString());
      }
    }
  }

  private static void onSignal(Signal s, SignalHandler previous) {
    String name = "SIG" + s.getName();
    if (REQUEST.request(name)) {
      LOG.warn(
          "{}: stopping after the current step with a checkpoint (send it again to exit at once)",
          name);
      return;
    }
    LOG.warn("{}: exiting now", name);
    if (previous == SignalHandler.SIG_IGN) {
      return;
    }
    if (previous == null || previous == SignalHandler.SIG_DFL) {
      Runtime.getRuntime().exit(128 + s.getNumber());
    } else {
      previous.handle(s);
    }
  }

  /** The exit code of a run stopped by {@code reason}: 128 + the signal's number, as a shell. */
  public static int exitCode(String reason) {
    return switch (reason) {
      case "SIGINT" -> 130;
      case "SIGTERM" -> 143;
      default -> 1;
    };
  }
}
