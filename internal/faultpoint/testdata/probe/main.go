// Command probe calls a named point; TestUntaggedBuildHasNoPoints checks
// that an untagged build of it holds neither the point's name nor Hit.
package main

import "github.com/stratalake/strata/internal/faultpoint"

func main() {
	faultpoint.Hit("probe.point-name-7f3a")
	println("ok")
}
