module github.com/threadrunner/threadrunner

go 1.26
