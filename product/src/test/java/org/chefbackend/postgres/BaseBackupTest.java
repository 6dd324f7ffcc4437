package org.chefbackend.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BaseBackupTest {
    @Test
    void progressIsSplitAtCarriageReturnsAndNewlines() {
        List<String> lines = new ArrayList<>();
        String last = BaseBackup.forwardLines(new StringReader("pg_basebackup: initiating base backup\n"
                + "  100/2000 kB (5%), 0/1 tablespace\r 2000/2000 kB (100%), 1/1 tablespace\r\n\n"
                + "pg_basebackup: base backup completed"), lines::add);
        assertEquals(List.of("pg_basebackup: initiating base backup", "100/2000 kB (5%), 0/1 tablespace",
                "2000/2000 kB (100%), 1/1 tablespace", "pg_basebackup: base backup completed"), lines);
        assertEquals("pg_basebackup: base backup completed", last);
    }

    @Test
    void errorLinesAreReportedNotTheCleanUpAfterThem() {
        String errors = BaseBackup.forwardLines(new StringReader("pg_basebackup: starting background WAL receiver\n"
                + "pg_basebackup: error: could not send replication command \"START_REPLICATION\": ERROR:  replication"
                + " slot \"cb_x\" does not exist\n"
                + "pg_basebackup: error: background process terminated unexpectedly\n"
                + "pg_basebackup: removing contents of data directory \"/d\"\n"), s -> {
                    throw new IllegalStateException("a failing sink must not stop the reading");
                });
        assertEquals("pg_basebackup: error: could not send replication command \"START_REPLICATION\": ERROR:  replication"
                + " slot \"cb_x\" does not exist; pg_basebackup: error: background process terminated unexpectedly", errors);
        assertEquals(null, BaseBackup.forwardLines(new StringReader(""), s -> { }));
    }
}
