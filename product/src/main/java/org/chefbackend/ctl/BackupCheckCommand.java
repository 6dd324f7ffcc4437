package org.chefbackend.ctl;

import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.chefbackend.agent.NodeContext;
import org.chefbackend.backup.RepositoryReport;
import org.chefbackend.repository.ArchiveGaps;
import org.chefbackend.system.OperatorException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "backup-check", mixinStandardHelpOptions = true,
        description = "Check the WAL archive of backup.repository: every segment recovery needs, from the oldest kept "
                + "backup to the newest archived segment, along every timeline switch, is present. Exits 1 when one is "
                + "missing or two copies of one differ.")
final class BackupCheckCommand implements Callable<Integer> {
    @Mixin
    RootOptions node;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        NodeContext ctx = RepositoryCommands.context(node);
        PrintWriter out = spec.commandLine().getOut();
        Optional<ArchiveGaps.Report> report = RepositoryCommands.read(() -> RepositoryReport.check(ctx));
        if (report.isEmpty()) {
            throw OperatorException.failure("the repository has no backup to check the archive from; take one with "
                    + "chef-backend-ctl backup --repository");
        }
        ArchiveGaps.Report r = report.get();
        out.println(r.summary());
        out.flush();
        return r.recoverable() && r.conflicts().isEmpty() ? 0 : 1;
    }
}
