package minioserver

import (
	"errors"
	"os/exec"
	"runtime"
	"syscall"
)

// run starts cmd and closes exit when it has exited. The kernel kills the
// server if the process that started it dies without stopping it (a test
// timeout's panic, say). Pdeathsig fires when the thread that started the child exits,
// not the process, so the starting goroutine stays locked to its thread
// until the child is gone.
func run(cmd *exec.Cmd, exit chan struct{}) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread exits with this goroutine, after the
		// child, rather than returning to the scheduler's pool.
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
		close(exit)
	}()
	return <-started
}

// ProcessAlive reports whether a process with this pid exists.
func ProcessAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
