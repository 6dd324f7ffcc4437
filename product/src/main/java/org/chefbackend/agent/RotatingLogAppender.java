package org.chefbackend.agent;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * Writes Logback events into a {@link RotatingLog}, so the agent's own log rotates like the services' logs. Each
 * event (with its stack trace) is one record: never split across files. The appender owns its log and closes it
 * on {@link #stop}. Configure it in code ({@link #attachToRoot}) or in logback.xml via the setters.
 */
public class RotatingLogAppender extends AppenderBase<ILoggingEvent> {
    public static final String DEFAULT_PATTERN = "%d{ISO8601} %-5level [%thread] %logger{0} - %msg%n";

    private String directory;
    private long maxBytes = 104857600L;
    private int numToKeep = 10;
    private String pattern = DEFAULT_PATTERN;
    private RotatingLog log;
    private PatternLayout layout;

    /** Sends every event of the default Logback context to {@code log}; returns the started appender. */
    public static RotatingLogAppender attachToRoot(RotatingLog log) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        RotatingLogAppender appender = new RotatingLogAppender();
        appender.setContext(context);
        appender.setName("rotating-log");
        appender.setLog(log);
        appender.start();
        context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(appender);
        return appender;
    }

    public void setDirectory(String directory) {
        this.directory = directory;
    }

    public void setMaxBytes(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    public void setNumToKeep(int numToKeep) {
        this.numToKeep = numToKeep;
    }

    public void setPattern(String pattern) {
        this.pattern = pattern;
    }

    /** Uses an already open log instead of opening {@code directory}. */
    public void setLog(RotatingLog log) {
        this.log = log;
    }

    @Override
    public void start() {
        try {
            if (log == null) {
                if (directory == null) {
                    addError("no directory set for appender " + getName());
                    return;
                }
                log = new RotatingLog(Path.of(directory), maxBytes, numToKeep);
            }
        } catch (IOException e) {
            addError("cannot open log in " + directory, e);
            return;
        }
        layout = new PatternLayout();
        layout.setContext(getContext());
        layout.setPattern(pattern);
        layout.start();
        super.start();
    }

    @Override
    protected void append(ILoggingEvent event) {
        try {
            log.write(layout.doLayout(event).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            addError("cannot write " + log.current(), e);
        }
    }

    @Override
    public void stop() {
        super.stop();
        if (log != null) {
            log.close();
        }
    }
}
