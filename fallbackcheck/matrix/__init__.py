"""The whole matrix run, pytest-free: select -> schedule -> run batches -> judge -> fixes ->
report. `run.MatrixRun` is one process's run, `finish.write_report` its end on the
controller, `options.RunOptions` what it is asked; the pytest plugin only wires them."""
