//go:build !linux

package minioserver

import "os/exec"

// run starts cmd and closes exit when it has exited.
func run(cmd *exec.Cmd, exit chan struct{}) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() {
		_ = cmd.Wait()
		close(exit)
	}()
	return nil
}

// ProcessAlive conservatively reports every process alive, so that stale
// data directories are only removed where liveness can be checked.
func ProcessAlive(pid int) bool { return true }
