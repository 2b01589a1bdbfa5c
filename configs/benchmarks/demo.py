# `make demo` (tools/demo.py): seed 0 of the unlabelled regime's student
# alone, logit KD and CAKD (configs/benchmarks/fashion_mnist_unlabelled.py),
# with the benchmark's runner, evaluation and tables. To stay within 15
# minutes on 2 cores, the corrupted test set is that of the held-out
# families only (the benchmark's headline robustness figure).
_base_ = './fashion_mnist_unlabelled.py'

seeds = [0]
out_dir = 'work_dirs/demo'
corruptions = ['jpeg', 'pixelate', 'salt_pepper', 'motion_blur', 'elastic']
methods = dict(
    _delete_=True,
    alone={{_base_.methods.alone}},
    kd={{_base_.methods.kd}},
    cakd={{_base_.methods.cakd}})
