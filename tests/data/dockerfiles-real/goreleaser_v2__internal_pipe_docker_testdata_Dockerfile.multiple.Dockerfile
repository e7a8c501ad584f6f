FROM scratch
ADD mybin /
ADD anotherbin /
ADD subdir/subbin /