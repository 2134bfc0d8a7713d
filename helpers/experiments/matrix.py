"""The experiment matrix as rows of data: one experiment a row (see ``helpers.experiments``)."""

# The matrix, one row per experiment: name, notebook, model, dataset, recipe, parameters beyond the recipe, where in
# the report, the report's test accuracy (%), the profiles that run it (besides "full", which runs every row) and,
# for report 2, the row's name in its table. Report 2's augmentation rows use each dataset's own augmentation.
# (A table: ruff format leaves it as written.)
# fmt: off
MATRIX = [
    # The data notebook.
    ("data_overview", "data", None, None, None, {}, None, None, "smoke quick"),

    # Report 1: four experiments, 50 epochs each (Appendices A-D are the models).
    # `quick` runs Exp. 3 only. Exp. 1 (VGG-16 without batch norm, RMSprop 1e-4) starts with gradients of ~1e-8
    # and stayed at chance for all of 1,200 steps on MNIST samples (issue 13), even with Keras 2's RMSprop
    # epsilon. Exp. 2 and 4 start slowly by the report's own logs (Appendices F and H): Exp. 2 was at 18-30%
    # validation accuracy for its first four epochs (5,600 steps), Exp. 4 swung between 16% and 44% over its first
    # eight (9,400 steps; validation loss up to 193). A CPU budget of a few hundred steps cannot show them learn.
    ("r1_exp1_vgg16_mnist", "vgg", "report_vgg16_mnist", "mnist", "report1", {}, "Exp. 1", 99.33, "smoke"),
    ("r1_exp2_vgg16_cifar10", "vgg", "report_vgg16_cifar10", "cifar10", "report1", {}, "Exp. 2", 85.17, ""),
    ("r1_exp3_resnet50_mnist", "resnet", "report_resnet50", "mnist", "report1", {}, "Exp. 3", 98.96, "quick smoke"),
    ("r1_exp4_resnet50_cifar10", "resnet", "report_resnet50", "cifar10", "report1", {}, "Exp. 4", 70.0, ""),

    # Report 2: Tables I-VI, 10 epochs, lr 0.001 (batch 64 throughout is the kit's simplification; see RECIPES).
    ("r2_vgg16_mnist", "vgg", "vgg16", "mnist", "report2", {}, "Table I", 99.1, "",
     "VGG16"),
    ("r2_vgg11_mnist", "vgg", "vgg11", "mnist", "report2", {}, "Table I", 99.1, "quick",
     "VGG11"),
    ("r2_vgg19_mnist", "vgg", "vgg19", "mnist", "report2", {}, "Table I", 83.0, "",
     "VGG19"),
    ("r2_vgg16_lr0.01_mnist", "vgg", "vgg16", "mnist", "report2", {"lr": 0.01}, "Table I", 96.9, "",
     "VGG16 with lr=0.01"),
    ("r2_vgg16_sgd_mnist", "vgg", "vgg16", "mnist", "report2", {"optimizer": "sgd"}, "Table I", 90.2, "",
     "VGG16 with SGD"),
    ("r2_vgg16_sgd_momentum_mnist", "vgg", "vgg16", "mnist", "report2", {"optimizer": "sgd_momentum"},
     "Table I", 98.0, "",
     "VGG16 with SGD and momentum"),
    ("r2_vgg16_adam_mnist", "vgg", "vgg16", "mnist", "report2", {"optimizer": "adam"}, "Table I", 98.2, "",
     "VGG16 with ADAM"),
    ("r2_vgg16_augment_mnist", "vgg", "vgg16", "mnist", "report2", {"augment": "shift_rotate"}, "Table I", 98.98, "",
     "VGG16 with Data Augmentation"),
    ("r2_resnet18_mnist", "resnet", "resnet18", "mnist", "report2", {}, "Table II", 99.3, "",
     "ResNet18"),
    ("r2_resnet18_lr0.01_mnist", "resnet", "resnet18", "mnist", "report2", {"lr": 0.01}, "Table II", 98.1, "",
     "ResNet18 with lr=0.01"),
    ("r2_resnet18_sgd_mnist", "resnet", "resnet18", "mnist", "report2", {"optimizer": "sgd"}, "Table II", 97.0, "",
     "ResNet18 with SGD"),
    ("r2_resnet18_sgd_momentum_mnist", "resnet", "resnet18", "mnist", "report2", {"optimizer": "sgd_momentum"},
     "Table II", 97.3, "",
     "ResNet18 with SGD and momentum"),
    ("r2_resnet18_adam_mnist", "resnet", "resnet18", "mnist", "report2", {"optimizer": "adam"}, "Table II", 98.29, "",
     "ResNet18 with Adam"),
    ("r2_resnet18_augment_mnist", "resnet", "resnet18", "mnist", "report2", {"augment": "shift_rotate"},
     "Table II", 97.9, "",
     "ResNet18 with Data Augmentation"),
    ("r2_googlenet_adam_mnist", "googlenet", "googlenet", "mnist", "report2", {"optimizer": "adam"},
     "Table III", 99.23, "",
     "GoogLeNet with adam"),
    ("r2_googlenet_adam_augment_mnist", "googlenet", "googlenet", "mnist", "report2",
     {"optimizer": "adam", "augment": "shift_rotate"},
     "Table III", 99.23, "",
     "GoogLeNet with adam and data augmentation"),
    ("r2_googlenet_augment_mnist", "googlenet", "googlenet", "mnist", "report2", {"augment": "shift_rotate"},
     "Table III", 99.1, "",
     "GoogLeNet with data augmentation"),
    ("r2_vgg16_cifar10", "vgg", "vgg16", "cifar10", "report2", {}, "Table IV", 78.6, "",
     "VGG16"),
    ("r2_vgg11_cifar10", "vgg", "vgg11", "cifar10", "report2", {}, "Table IV", 73.6, "",
     "VGG11"),
    ("r2_vgg19_cifar10", "vgg", "vgg19", "cifar10", "report2", {}, "Table IV", 78.5, "",
     "VGG19"),
    ("r2_vgg16_lr0.01_cifar10", "vgg", "vgg16", "cifar10", "report2", {"lr": 0.01}, "Table IV", 79.2, "",
     "VGG16 with lr=0.01"),
    ("r2_vgg16_sgd_cifar10", "vgg", "vgg16", "cifar10", "report2", {"optimizer": "sgd"}, "Table IV", 65.6, "",
     "VGG16 with SGD"),
    ("r2_vgg16_sgd_momentum_cifar10", "vgg", "vgg16", "cifar10", "report2", {"optimizer": "sgd_momentum"},
     "Table IV", 78.6, "",
     "VGG16 with SGD and momentum"),
    ("r2_vgg16_adam_cifar10", "vgg", "vgg16", "cifar10", "report2", {"optimizer": "adam"}, "Table IV", 82.3, "",
     "VGG16 with ADAM"),
    ("r2_vgg16_augment_cifar10", "vgg", "vgg16", "cifar10", "report2", {"augment": "flip_crop"}, "Table IV", 72.5, "",
     "VGG16 with Data Augmentation"),
    ("r2_resnet18_cifar10", "resnet", "resnet18", "cifar10", "report2", {}, "Table V", 78.9, "",
     "ResNet18"),
    ("r2_resnet18_lr0.01_cifar10", "resnet", "resnet18", "cifar10", "report2", {"lr": 0.01}, "Table V", 80.4, "",
     "ResNet18 with lr=0.01"),
    ("r2_resnet18_sgd_cifar10", "resnet", "resnet18", "cifar10", "report2", {"optimizer": "sgd"}, "Table V", 64.6, "",
     "ResNet18 with SGD"),
    ("r2_resnet18_sgd_momentum_cifar10", "resnet", "resnet18", "cifar10", "report2", {"optimizer": "sgd_momentum"},
     "Table V", 78.4, "",
     "ResNet18 with SGD and momentum"),
    ("r2_resnet18_adam_cifar10", "resnet", "resnet18", "cifar10", "report2", {"optimizer": "adam"}, "Table V", 81.8, "",
     "ResNet18 with Adam"),
    ("r2_resnet18_augment_cifar10", "resnet", "resnet18", "cifar10", "report2", {"augment": "flip_crop"},
     "Table V", 81.2, "",
     "ResNet18 with Data Augmentation"),
    ("r2_googlenet_sgd_cifar10", "googlenet", "googlenet", "cifar10", "report2", {"optimizer": "sgd_momentum"},
     "Table VI", 76.48, "",
     "GoogLeNet with SGD"),
    ("r2_googlenet_sgd_augment_cifar10", "googlenet", "googlenet", "cifar10", "report2",
     {"optimizer": "sgd_momentum", "augment": "flip_crop"},
     "Table VI", 76.1, "",
     "GoogLeNet with SGD and data augmentation"),

    # The ResNet paper's degradation experiment on CIFAR-10 (Sec. 4.2, Fig. 6): its 6n+2-layer networks, plain and
    # residual, with our recipe. Degradation is the deeper *plain* net training worse than the shallower one;
    # `quick` runs the paper's extremes, 20 and 56 layers, `full` every depth of Fig. 6.
    ("degradation_plain20_cifar10", "resnet", "plain20", "cifar10", "best", {}, None, None, "smoke quick"),
    ("degradation_plain32_cifar10", "resnet", "plain32", "cifar10", "best", {}, None, None, ""),
    ("degradation_plain44_cifar10", "resnet", "plain44", "cifar10", "best", {}, None, None, ""),
    ("degradation_plain56_cifar10", "resnet", "plain56", "cifar10", "best", {}, None, None, "quick"),
    ("degradation_resnet20_cifar10", "resnet", "resnet20", "cifar10", "best", {}, None, None, "smoke quick"),
    ("degradation_resnet32_cifar10", "resnet", "resnet32", "cifar10", "best", {}, None, None, ""),
    ("degradation_resnet44_cifar10", "resnet", "resnet44", "cifar10", "best", {}, None, None, ""),
    ("degradation_resnet56_cifar10", "resnet", "resnet56", "cifar10", "best", {}, None, None, "quick"),
    ("degradation_resnet110_cifar10", "resnet", "resnet110", "cifar10", "best", {}, None, None, ""),

    # Our recipe on the four main models and both datasets.
    ("best_vgg16_cifar10", "vgg", "vgg16", "cifar10", "best", {}, None, None, "smoke quick"),
    ("best_resnet18_cifar10", "resnet", "resnet18", "cifar10", "best", {}, None, None, "smoke"),
    ("best_resnet50_cifar10", "resnet", "resnet50", "cifar10", "best", {}, None, None, ""),
    ("best_googlenet_cifar10", "googlenet", "googlenet", "cifar10", "best", {}, None, None, "smoke quick"),
    ("best_vgg16_mnist", "vgg", "vgg16", "mnist", "best", {}, None, None, ""),
    ("best_resnet18_mnist", "resnet", "resnet18", "mnist", "best", {}, None, None, ""),
    ("best_resnet50_mnist", "resnet", "resnet50", "mnist", "best", {}, None, None, ""),
    ("best_googlenet_mnist", "googlenet", "googlenet", "mnist", "best", {}, None, None, ""),

    # After the training runs: looks into the most accurate one (it trains nothing, like the appendix).
    ("what_cnns_see", "interpret", None, None, None, {}, None, None, "smoke quick"),

    # The evaluation appendix, last.
    ("evaluation_appendix", "appendix", None, None, None, {}, None, None, "smoke quick"),
]
# fmt: on
